from bot.cli import main

if __name__ == "__main__":  # not when a `run --workers` process starts
    main()
