"""Command line interface (placeholder until the commands land)."""

import click


@click.group()
def main() -> None:
    """sheet2video: campaign sheets to videos."""
