"""Trajectory: placement trajectories for college students, learned from alumni."""
