"""mkdocs hooks: pages generated at build time, so they cannot drift from what they describe.

- ``reference/cli.md``: every command's ``--help``, read from the CLI itself;
- ``results/<name>.md``: one page per ``bench/results/<name>.json``, with each row's run
  (command, commit, date) and the tables the benchmark rendered from the same JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def cli_reference() -> str:
    import click
    import typer.main

    from pseudorel.cli import app

    command = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the command line itself (`pseudorel COMMAND --help`) when the site is built.",
        "",
    ]
    root = click.Context(command, info_name="pseudorel", terminal_width=100, max_content_width=100)
    lines += ["```text", command.get_help(root), "```", ""]
    for name in command.list_commands(root):
        sub = command.get_command(root, name)
        context = click.Context(sub, info_name=name, parent=root, terminal_width=100, max_content_width=100)
        lines += [f"## pseudorel {name}", "", "```text", sub.get_help(context), "```", ""]
    return "\n".join(lines)


def results_page(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    markdown = path.with_suffix(".md")
    body = markdown.read_text(encoding="utf-8") if markdown.is_file() else f"# {path.stem}\n"
    headline = data.get("headline")
    if isinstance(headline, dict):
        table = ["| headline | value |", "|---|---|"]
        table += [f"| {k} | {v if not isinstance(v, float) else round(v, 4)} |" for k, v in headline.items()]
        title, _, rest = body.partition("\n")
        body = f"{title}\n\n" + "\n".join(table) + "\n" + rest
    return body


def results_index(paths: list[Path]) -> str:
    lines = [
        "# Results",
        "",
        "Every benchmark in `bench/` writes `bench/results/<name>.json` and renders `<name>.md` from it; each "
        "page below is built from those files, and each row names the command, commit and date that made it. "
        "All figures are test nDCG@10 on human judgments read for evaluation only, unless a page says otherwise.",
        "",
        "| benchmark | latest run | date |",
        "|---|---|---|",
    ]
    for path in paths:
        meta = json.loads(path.read_text(encoding="utf-8")).get("meta", {})
        lines.append(f"| [{path.stem}]({path.stem}.md) | `{meta.get('command', '')}` | {meta.get('date', '')} |")
    return "\n".join(lines) + "\n"


def on_files(files, config):
    generated = {"reference/cli.md": cli_reference()}
    paths = sorted(RESULTS.glob("*.json"))
    generated["results/index.md"] = results_index(paths)
    generated.update({f"results/{p.stem}.md": results_page(p) for p in paths})
    for uri, content in generated.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files
