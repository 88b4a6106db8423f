"""pandoc's reading of a Markdown text (pandoc's own reader, as Quarto's): for tests of the Markdown the package
writes."""

import json
import subprocess


def blocks(markdown: str) -> list[dict]:
    """pandoc's top-level blocks for a Markdown text, as its JSON AST gives them."""
    import pypandoc

    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "json"],
        input=markdown,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["blocks"]
