"""What the sidecar serves: the task commands, the REST chat commands and the code actions."""
