"""The Slack edge: the Bolt app, acks, channels, and one listener module per surface."""
