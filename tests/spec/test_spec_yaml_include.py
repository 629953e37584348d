"""YAML reading: parse errors with a place, marks per path, !include (relative, cycles, depth)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from spec_helpers import FIXTURES, Project

from agentdock.spec import load_dockfile, validate_file
from agentdock.spec.yamlio import MAX_INCLUDE_DEPTH, read_document

pytestmark = pytest.mark.unit


def test_broken_yaml_is_4001_with_line_and_column(minimal: Project) -> None:
    text = minimal.dockfile.read_text().replace("  framework: langgraph", "  framework: [langgraph")
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.name) for e in errors] == [(4001, "YAMLParseError")]
    assert "invalid YAML" in errors[0].cause and "line" in errors[0].cause
    assert errors[0].file == "Dockfile.yaml" and isinstance(errors[0].line, int)


def test_missing_dockfile_is_4001(tmp_path: Path) -> None:
    errors = validate_file(tmp_path / "nope.yaml").errors
    assert [(e.code, e.cause) for e in errors] == [
        (4001, "cannot read the Dockfile: No such file or directory")
    ]


@pytest.mark.parametrize(
    ("text", "got"), [("", "an empty file"), ("- a\n- b\n", "a list"), ("just text\n", "a string")]
)
def test_a_dockfile_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    file = tmp_path / "Dockfile.yaml"
    file.write_text(text)
    errors = validate_file(file).errors
    assert [(e.code, e.path) for e in errors] == [(4002, "")]
    assert errors[0].cause.endswith(f"got {got}")


def test_duplicate_keys_are_reported_not_silently_merged(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "expose:\n  rest: false\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "expose")]
    assert "duplicate key 'expose' (first on line" in errors[0].cause
    assert errors[0].line == len(text.splitlines()) - 1


def test_unknown_tags_are_errors_and_dates_stay_strings(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "metadata:\n  released: 2024-05-01\n"
    loaded = load_dockfile(minimal.write(text=text))
    assert loaded.raw["metadata"]["released"] == "2024-05-01"
    bad = minimal.write(
        text=minimal.dockfile.read_text().replace("name: gpt-4o-mini", "name: !!python/name:os.system")
    )
    errors = validate_file(bad).errors
    assert [e.code for e in errors] == [4001]


def test_anchors_and_merge_keys_work(minimal: Project) -> None:
    text = minimal.dockfile.read_text().replace(
        "model:\n  provider: openai\n  name: gpt-4o-mini\n",
        "x-model: &base {provider: openai, name: gpt-4o}\nmodel:\n  <<: *base\n  name: gpt-4o-mini\n",
    )
    doc = read_document(minimal.write(text=text))
    assert doc.errors == []
    assert doc.data["model"] == {"provider": "openai", "name": "gpt-4o-mini"}
    errors = validate_file(minimal.dockfile).errors
    assert [(e.code, e.path) for e in errors] == [(4002, "x-model")]


def test_marks_point_at_keys_and_list_items(minimal: Project) -> None:
    doc = read_document(minimal.dockfile)
    lines = minimal.dockfile.read_text().splitlines()
    assert doc.marks["agent"].line == lines.index("agent:") + 1
    assert doc.marks["agent.entrypoint"].line == lines.index("  entrypoint: agent:build_graph") + 1
    assert doc.marks["io_schema.input.required[0]"].line == lines.index("    required: [text]") + 1


def test_include_is_relative_to_the_including_file(minimal: Project) -> None:
    (minimal.root / "conf").mkdir()
    minimal.write(text="mode: api_key\napi_keys: !include keys/api.yaml\n", name="conf/auth.yaml")
    (minimal.root / "conf" / "keys").mkdir()
    minimal.write(text="enabled: true\nrotation_days: 0\n", name="conf/keys/api.yaml")
    text = minimal.dockfile.read_text().replace(
        "auth:\n  mode: api_key\n  api_keys:\n    enabled: true\n", "auth: !include conf/auth.yaml\n"
    )
    report = validate_file(minimal.write(text=text))
    # the error inside the twice-included file names that file and its line
    assert [(e.code, e.path, e.file, e.line) for e in report.errors] == [
        (4002, "auth.api_keys.rotation_days", "conf/keys/api.yaml", 2)
    ]
    assert [p.name for p in report.files] == ["Dockfile.yaml", "auth.yaml", "api.yaml"]


def test_missing_include_points_at_the_include_line(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "metadata: !include nowhere.yaml\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path, e.line) for e in errors] == [(4001, "metadata", len(text.splitlines()))]
    assert "cannot read included file 'nowhere.yaml'" in errors[0].cause


def test_self_include_is_a_cycle(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "metadata: !include Dockfile.yaml\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4009, "metadata")]
    assert "Dockfile.yaml -> Dockfile.yaml" in errors[0].cause


def chain(project: Project, length: int) -> Path:
    """Dockfile -> m1.yaml -> ... -> m<length>.yaml, the last one holding the metadata."""
    for i in range(1, length + 1):
        body = "maintainer: deep\n" if i == length else f"!include m{i + 1}.yaml\n"
        project.write(text=body, name=f"m{i}.yaml")
    return project.write(
        text=(FIXTURES / "minimal" / "Dockfile.yaml").read_text() + "metadata: !include m1.yaml\n"
    )


def test_include_depth_limit(minimal: Project) -> None:
    assert load_dockfile(chain(minimal, MAX_INCLUDE_DEPTH)).raw["metadata"] == {"maintainer": "deep"}
    errors = validate_file(chain(minimal, MAX_INCLUDE_DEPTH + 1)).errors
    assert [(e.code, e.path) for e in errors] == [(4009, "metadata")]
    assert f"deeper than {MAX_INCLUDE_DEPTH}" in errors[0].cause


def test_bad_include_argument(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "metadata: !include [a.yaml]\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "metadata")]


def test_absurd_nesting_is_an_error_not_a_crash(minimal: Project) -> None:
    text = minimal.dockfile.read_text() + "metadata:\n  deep: " + "[" * 600 + "]" * 600 + "\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [e.code for e in errors] == [4001]


# --- confinement (issue 17): an include reads only YAML files in the Dockfile's folder -----------


@pytest.mark.parametrize(
    "target", ["/etc/passwd", "/proc/self/environ", "../outside.yaml", "sub/../../outside.yaml"]
)
def test_include_outside_the_dockfile_folder_is_refused(minimal: Project, target: str) -> None:
    (minimal.root.parent / "outside.yaml").write_text("secret_value: hunter2-outside\n")
    text = minimal.dockfile.read_text() + f"metadata: !include {target}\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "metadata")]
    assert "refused" in errors[0].cause and "inside the Dockfile's folder" in errors[0].cause
    assert "hunter2" not in str(errors[0].to_dict()) and "root:" not in str(errors[0].to_dict())


def test_include_through_a_symlink_that_leaves_the_folder_is_refused(minimal: Project) -> None:
    (minimal.root.parent / "outside.yaml").write_text("maintainer: hunter2-outside\n")
    (minimal.root / "link.yaml").symlink_to(minimal.root.parent / "outside.yaml")
    text = minimal.dockfile.read_text() + "metadata: !include link.yaml\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "metadata")]
    assert "hunter2" not in errors[0].cause


def test_include_of_a_non_yaml_file_never_echoes_its_contents(minimal: Project) -> None:
    (minimal.root / "notes.txt").write_text("AWS_SECRET=hunter2-txt\n")
    text = minimal.dockfile.read_text() + "metadata: !include notes.txt\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [e.code for e in errors] == [4001]
    assert "hunter2" not in str([e.to_dict() for e in errors])


def test_include_of_a_fifo_is_refused_without_hanging(minimal: Project) -> None:
    os.mkfifo(minimal.root / "pipe.yaml")
    text = minimal.dockfile.read_text() + "metadata: !include pipe.yaml\n"
    errors = validate_file(minimal.write(text=text)).errors  # hung forever before the fix
    assert [(e.code, e.path) for e in errors] == [(4001, "metadata")]
    assert "not a regular file" in errors[0].cause


def test_include_of_a_huge_file_is_refused(minimal: Project) -> None:
    from agentdock.spec.yamlio import MAX_FILE_BYTES

    (minimal.root / "big.yaml").write_text("a: " + "x" * (MAX_FILE_BYTES + 10) + "\n")
    text = minimal.dockfile.read_text() + "metadata: !include big.yaml\n"
    errors = validate_file(minimal.write(text=text)).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "metadata")]
    assert f"larger than {MAX_FILE_BYTES} bytes" in errors[0].cause
