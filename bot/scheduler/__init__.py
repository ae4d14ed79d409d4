"""Planning and sending the messages the bot starts itself: reminders, digests, escalations."""
