"""The actor engine: durable mailboxes, actor pools and their supervisor."""
