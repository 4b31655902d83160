"""Personal career plans and self-reviews (private to the owner and their mentors)."""
