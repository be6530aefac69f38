"""Tables of the robots runtime (automation sources and the automation log)."""
