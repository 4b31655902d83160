"""The three-year alignment framework of a school."""
