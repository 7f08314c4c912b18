"""CLI commands, one module per area; ``ouroboros.cli`` assembles them."""
