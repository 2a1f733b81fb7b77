from parry.cli import entry

entry()
