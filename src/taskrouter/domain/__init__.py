"""The domain: entities, identifiers, lifecycles and the core error vocabulary. Pure, no I/O."""
