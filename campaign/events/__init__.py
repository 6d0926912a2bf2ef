"""The events catalogue: import from the events website's export, and selection."""
