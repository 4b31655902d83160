"""The needs register: professional-learning needs of a whole school, a team or a person."""
