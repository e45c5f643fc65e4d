"""Code that runs inside a local-pool job process (launcher, network guard); stdlib only."""
