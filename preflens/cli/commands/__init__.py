"""The command registry: every ``preflens`` subcommand, in the order ``--help`` lists
them. A new command is a ``Command`` subclass in a module here, added to ``COMMANDS``."""

from __future__ import annotations

from preflens.cli.commands.base import Command
from preflens.cli.commands.demo import DemoCommand
from preflens.cli.commands.diagnose import DiagnoseCommand, ExportCommand, ReportCommand
from preflens.cli.commands.failure_map import MapCommand
from preflens.cli.commands.fix import CompareRetrainedCommand, FlagsCommand, SuspectsCommand
from preflens.cli.commands.generate import GenerateCommand, ScoreGenerationsCommand
from preflens.cli.commands.imports import (
    ExportDatasetCommand,
    ImportGenerationsCommand,
    ImportScoresCommand,
)
from preflens.cli.commands.ingest import IngestCommand
from preflens.cli.commands.over import BonCommand
from preflens.cli.commands.probe import ProbeCommand, ScoreDpoCommand
from preflens.cli.commands.score import ScoreCommand
from preflens.cli.commands.serve import DashboardCommand, ServeCommand
from preflens.cli.commands.store import DatasetsCommand, DbCommand, ModelCommand, RunsCommand
from preflens.cli.commands.train import TrainDPOCommand, TrainRMCommand

COMMANDS: list[type[Command]] = [
    ModelCommand,
    DbCommand,
    IngestCommand,
    ScoreCommand,
    RunsCommand,
    DatasetsCommand,
    DemoCommand,
    TrainRMCommand,
    TrainDPOCommand,
    GenerateCommand,
    ScoreGenerationsCommand,
    BonCommand,
    ImportGenerationsCommand,
    ImportScoresCommand,
    ExportDatasetCommand,
    DiagnoseCommand,
    MapCommand,
    SuspectsCommand,
    FlagsCommand,
    CompareRetrainedCommand,
    ExportCommand,
    ReportCommand,
    ProbeCommand,
    ScoreDpoCommand,
    DashboardCommand,
    ServeCommand,
]
