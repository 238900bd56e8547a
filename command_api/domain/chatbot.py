"""Chatbot (an OCS "experiment"): a working version that is edited, plus immutable published snapshots.

A version answers with its LLM configuration (`llm`): one prompt, or a pipeline of nodes when `llm` has one
(`workers.pipelines.definition`); publishing snapshots either.

The chatbot's id is the working version's public id. Each published version has its own public id,
which the API mostly refuses (SPEC §1.10); sessions always reference the chatbot's own id.
"""

from uuid import UUID

from command_api.domain.base import OcsAggregate


class Chatbot(OcsAggregate):
    class Created(OcsAggregate.Created):
        name: str
        description: str
        llm: dict

    class PipelineChanged(OcsAggregate.Event):
        """The working version answers through this pipeline (None: through its one prompt)."""

        pipeline: dict | None

        def apply(self, chatbot: "Chatbot") -> None:
            chatbot.llm = {**chatbot.llm, "pipeline": self.pipeline}

    class VersionPublished(OcsAggregate.Event):
        name: str
        version_id: str
        version_number: int
        version_description: str
        is_default_version: bool
        llm: dict

        def apply(self, chatbot: "Chatbot") -> None:
            if self.is_default_version:
                for version in chatbot.versions:
                    version["is_default_version"] = False
            chatbot.versions.append(
                {
                    "name": self.name,
                    "version_id": self.version_id,
                    "version_number": self.version_number,
                    "version_description": self.version_description,
                    "is_default_version": self.is_default_version,
                    "llm": self.llm,
                }
            )

    def __init__(self, id: UUID, team: str, name: str, description: str, llm: dict):
        self.team = team
        self.name = name
        self.description = description
        self.llm = llm
        self.versions: list[dict] = []

    @property
    def version_number(self) -> int:
        """The working version's number: one more than the highest published snapshot."""
        return len(self.versions) + 1

    @property
    def default_version_number(self) -> int | None:
        return next((v["version_number"] for v in self.versions if v["is_default_version"]), None)

    def answering_config(self, version_number: int | None = None) -> tuple[dict, str] | None:
        """(the LLM configuration that answers, the tag its replies carry) for a requested version
        (SPEC §4.3): none or 0 is the published default, else the working version; the working version's
        number is the working version; another number is that snapshot; an unknown number is None."""
        if not version_number:
            version_number = self.default_version_number or self.version_number
        if version_number == self.version_number:
            return self.llm, f"v{version_number}-unreleased"
        version = next((v for v in self.versions if v["version_number"] == version_number), None)
        return (version["llm"], f"v{version_number}") if version else None

    def change_pipeline(self, pipeline: dict | None) -> None:
        self.trigger_event(self.PipelineChanged, pipeline=pipeline)

    def publish_version(self, version_id: str, description: str, make_default: bool) -> dict:
        self.trigger_event(
            self.VersionPublished,
            name=self.name,
            version_id=version_id,
            version_number=self.version_number,
            version_description=description,
            # The first version ever published serves traffic by default (SPEC §2).
            is_default_version=make_default or not self.versions,
            llm=dict(self.llm),
        )
        return self.versions[-1]
