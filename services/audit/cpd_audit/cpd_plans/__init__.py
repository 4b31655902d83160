"""The strategic CPD plan of a school for an academic year."""
