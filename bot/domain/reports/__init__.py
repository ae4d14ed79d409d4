"""The figures a commune's and a province's plans are judged by, computed from the records the bot keeps.

`period` says which days a report covers, `facts` what the database hands over (plain, clear rows: no names),
`figures` every count with its one definition, `indicators` the ratios against their targets. All pure: the
repository gathers, the service (bot/services/reports.py) asks the authorisation table and puts them together."""
