"""One module per subcommand, each with `main(args) -> int`."""
