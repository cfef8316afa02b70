"""The command line: parse input, call services, render output, map errors."""
