"""mkdocs hooks: pages generated at build time, so they cannot drift from what they describe.

- ``reference/cli.md``: every command's ``--help``, read from the CLI itself;
- ``results/<name>.md``: one page per ``bench/results/<name>.json``, with each row's run
  (command, commit, date) and the tables the benchmark rendered from the same JSON, with the
  figures and the HTML report beside them.
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
    from typer.testing import CliRunner

    from pseudorel.cli import app

    runner = CliRunner()

    def help_of(*command: str) -> str:
        env = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}
        result = runner.invoke(app, [*command, "--help"], prog_name="pseudorel", env=env)
        if result.exit_code != 0:
            raise RuntimeError(f"pseudorel {' '.join(command)} --help failed: {result.output}")
        return result.output.rstrip()

    lines = [
        "# CLI reference",
        "",
        "Generated from the command line itself (`pseudorel COMMAND --help`) when the site is built.",
        "",
        "```text",
        help_of(),
        "```",
        "",
    ]
    group = typer.main.get_command(app)
    for name in group.list_commands(click.Context(group)):
        lines += [f"## pseudorel {name}", "", "```text", help_of(name), "```", ""]
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
    for figure in [*RESULTS.glob("*.png"), *RESULTS.glob("*.html")]:  # the figures and the report the pages show
        files.append(File.generated(config, f"results/{figure.name}", abs_src_path=str(figure)))
    return files
