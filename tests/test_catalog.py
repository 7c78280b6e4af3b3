"""The generated instance-type catalog: up to date with its generator, and right on known facts."""

import json

import pytest

import ec2_instance_catalog as catalog
from compute_abuse import catalog as generator


def test_committed_catalog_is_what_the_generator_produces():
    committed = generator.CATALOG_PATH.read_text(encoding="utf-8")
    assert committed == generator.generate(), "stale catalog: run `make catalog` and commit it"


@pytest.mark.parametrize(
    "instance_type, vcpus, cores, threads, accelerators, kind, name",
    [
        ("t3.micro", 2, 1, 2, 0, "", ""),
        ("c5.24xlarge", 96, 48, 2, 0, "", ""),
        ("p4d.24xlarge", 96, 48, 2, 8, "gpu", "NVIDIA A100"),
        ("g4dn.xlarge", 4, 2, 2, 1, "gpu", "NVIDIA T4"),
        ("inf2.48xlarge", 192, 96, 2, 12, "inference", "AWS Inferentia2"),
        ("trn1.32xlarge", 128, 64, 2, 16, "training", "Trainium"),
        ("vt1.3xlarge", 12, 6, 2, 1, "media", "Xilinx U30"),
        ("f2.6xlarge", 24, 12, 2, 1, "fpga", "Xilinx Virtex UltraScale+ (VU47P)"),
        # From the sourced supplement (moto lacks previous generations):
        ("p2.xlarge", 4, 2, 2, 1, "gpu", "NVIDIA K80"),
        ("p3.16xlarge", 64, 32, 2, 8, "gpu", "NVIDIA V100"),
        ("g3.16xlarge", 64, 32, 2, 4, "gpu", "NVIDIA M60"),
        # A supplement correction where moto's record lacks its accelerators:
        ("trn2u.48xlarge", 192, 96, 2, 16, "training", "Trainium2"),
    ],
)
def test_known_instance_types(instance_type, vcpus, cores, threads, accelerators, kind, name):
    assert catalog.instance_type_spec(instance_type) == (
        vcpus,
        cores,
        threads,
        accelerators,
        kind,
        name,
    )


def test_unknown_type_has_no_spec():
    assert catalog.instance_type_spec("zz9.hyperlarge") is None


def test_accelerated_families_cover_every_kind_and_no_plain_cpu_family():
    for family in (
        "p2",
        "p3",
        "p4d",
        "p5",
        "g3",
        "g4dn",
        "g5",
        "g6",
        "inf1",
        "inf2",
        "trn1",
        "trn2",
        "dl1",
        "f1",
        "f2",
        "vt1",
    ):
        assert family in catalog.ACCELERATED_FAMILIES, family
    for family in ("t3", "m5", "c5", "r6i", "hpc7a", "mac2", "x2idn"):
        assert family not in catalog.ACCELERATED_FAMILIES, family


def test_every_catalog_row_is_consistent():
    for name, row in catalog._CATALOG.items():
        spec = catalog.InstanceTypeSpec(*row)
        assert spec.vcpus > 0 and spec.cores > 0 and spec.threads_per_core in (1, 2, 4), name
        assert spec.vcpus == spec.cores * spec.threads_per_core or name.startswith("mac"), name
        assert (spec.accelerator_kind == "") == (spec.accelerator_name == ""), name


def test_every_supplement_entry_names_its_sources():
    supplement = json.loads(generator.SUPPLEMENT_PATH.read_text(encoding="utf-8"))
    for entry in supplement["instance_types"]:
        assert entry["sources"], entry["instance_type"]


def test_moto_wins_over_the_supplement_unless_told_otherwise():
    moto = {
        "p2.xlarge": {
            "VCpuInfo": {"DefaultVCpus": 8, "DefaultCores": 4, "DefaultThreadsPerCore": 2}
        }
    }
    supplement = [
        {
            "instance_type": "p2.xlarge",
            "vcpus": 4,
            "cores": 2,
            "threads_per_core": 2,
            "accelerator_count": 1,
            "accelerator_kind": "gpu",
            "accelerator_name": "NVIDIA K80",
        },
        {
            "instance_type": "x9.large",
            "vcpus": 2,
            "cores": 1,
            "threads_per_core": 2,
            "accelerator_count": 0,
            "accelerator_kind": "",
            "accelerator_name": "",
            "overrides_moto": True,
        },
    ]
    built = generator.build_catalog(moto, supplement)
    assert built["p2.xlarge"] == (8, 4, 2, 0, "", "")
    assert built["x9.large"] == (2, 1, 2, 0, "", "")


def test_service_sizes_are_catalog_rows_with_sources():
    sizes = json.loads(generator.SERVICE_SIZES_PATH.read_text(encoding="utf-8"))["sizes"]
    for entry in sizes:
        assert entry["sources"], entry["instance_type"]
        family, _, size = entry["instance_type"].partition(".")
        assert family in ("lightsail", "codebuild", "codebuild-arm", "codebuild-gpu", "amplify")
        assert size and entry["instance_type"] == entry["instance_type"].lower()
    assert catalog.instance_type_spec("lightsail.4xlarge_3_0").vcpus == 16
    assert catalog.instance_type_spec("codebuild.build_general1_2xlarge").vcpus == 72
    assert "codebuild-gpu" in catalog.ACCELERATED_FAMILIES
    assert "codebuild" not in catalog.ACCELERATED_FAMILIES


def test_a_family_is_every_size_of_it():
    p3 = catalog.family_specs("p3")
    assert sorted(spec.vcpus for spec in p3) == [8, 32, 64]
    assert catalog.family_specs("p3.2xlarge") == [] and catalog.family_specs("zz9") == []


def test_types_meeting_requirements_are_ec2_types_only():
    """types_meeting() tells other services' sizes apart by the "_" their names hold and EC2
    type names never do: both halves of that convention are checked here."""
    sizes = json.loads(generator.SERVICE_SIZES_PATH.read_text(encoding="utf-8"))["sizes"]
    service_rows = {row["instance_type"] for row in sizes}
    assert all("_" in name for name in service_rows)
    assert not [name for name in catalog._CATALOG if "_" in name and name not in service_rows]
    everything = catalog.types_meeting((0, 1 << 30), (0, 1 << 30), frozenset(), frozenset())
    assert not service_rows & set(everything) and len(everything) == len(catalog._CATALOG) - len(
        service_rows
    )
    gpus = catalog.types_meeting((1, 8), (1, 1), frozenset({"gpu"}), frozenset({"nvidia"}))
    assert "g4dn.xlarge" in gpus and "c5.large" not in gpus and "inf1.xlarge" not in gpus
