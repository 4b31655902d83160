"""Impact of an evaluated programme: effect sizes, attrition and group gaps per measure."""
