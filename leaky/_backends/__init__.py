"""leaky's backends, one per host library."""
