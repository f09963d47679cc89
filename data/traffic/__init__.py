"""The traffic network (arterials from the roads) and its travel demand."""
