"""EKS node groups, EMR clusters, Batch compute environments, Lightsail instances and CodeBuild
builds in the capacity ledger: each priced at the caller's request (EC2 types, instance families,
or the catalog's "<service>.<size>" rows), charged to the person, with the service named; the
EC2 launches EKS, EMR and Batch make for them are not counted again; empty ECS clusters count
for RegionSpread. Everyday counterparts stay quiet."""

import pytest

import ec2_compute_helpers as helpers
from compute_abuse.events import (
    api_call,
    assumed_role,
    auto_scaling_group,
    autoscaling_identity,
    create_compute_environment,
    create_launch_template,
    create_lightsail_instances,
    create_nodegroup,
    run_instances,
    run_job_flow,
    start_build,
    update_nodegroup_config,
)
from tests.scenarios import DAY, T0, at, by, context, load_rules, quiet


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize(
    "event, instances, vcpus, accelerators, types, service",
    [
        (create_nodegroup(("p4d.24xlarge",), 10), 10, 960, 80, ("p4d.24xlarge",), "EKS"),
        # Neither instanceTypes nor a launch template: EKS's default type.
        (create_nodegroup(None, 3), 3, 6, 0, ("t3.medium",), "EKS"),
        (create_nodegroup(("c5.large",), None), 1, 2, 0, ("c5.large",), "EKS"),  # minSize
        (
            run_job_flow((("MASTER", "m5.xlarge", 1), ("CORE", "c5.24xlarge", 10))),
            11,
            964,
            0,
            ("m5.xlarge", "c5.24xlarge"),
            "EMR",
        ),
        # The older RunJobFlow shape: one master, instanceCount - 1 core instances.
        (
            api_call(
                "elasticmapreduce.amazonaws.com",
                "RunJobFlow",
                requestParameters={
                    "instances": {
                        "masterInstanceType": "m5.xlarge",
                        "slaveInstanceType": "g5.12xlarge",
                        "instanceCount": 5,
                    }
                },
            ),
            5,
            4 + 4 * 48,
            16,
            ("m5.xlarge", "g5.12xlarge"),
            "EMR",
        ),
        # An instance fleet: its target units, smallest type to largest.
        (
            api_call(
                "elasticmapreduce.amazonaws.com",
                "RunJobFlow",
                requestParameters={
                    "instances": {
                        "instanceFleets": [
                            {
                                "instanceFleetType": "CORE",
                                "targetSpotCapacity": 20,
                                "instanceTypeConfigs": [
                                    {"instanceType": "c5.xlarge"},
                                    {"instanceType": "c5.24xlarge"},
                                ],
                            }
                        ]
                    }
                },
            ),
            20,
            80,
            0,
            ("c5.xlarge", "c5.24xlarge"),
            "EMR",
        ),
        # A family: 512 vCPUs of p3 (p3.2xlarge: 8 vCPUs, 1 GPU) is at least 64 GPUs.
        (
            create_compute_environment(("p3",), min_vcpus=512, max_vcpus=4096),
            64,
            512,
            64,
            ("p3",),
            "Batch",
        ),
        (
            create_compute_environment(("optimal",), desired_vcpus=96),
            0,
            96,
            0,
            ("optimal",),
            "Batch",
        ),
        (create_compute_environment(kind="FARGATE", max_vcpus=256), 0, 0, 0, (), "Batch"),
        (
            create_lightsail_instances("4xlarge_win_3_0", 3),
            3,
            48,
            0,
            ("lightsail.4xlarge_3_0",),
            "Lightsail",
        ),
        (
            start_build("BUILD_GENERAL1_2XLARGE"),
            1,
            72,
            0,
            ("codebuild.build_general1_2xlarge",),
            "CodeBuild",
        ),
        (
            start_build("BUILD_GENERAL1_LARGE", "LINUX_GPU_CONTAINER", override=True),
            1,
            32,
            4,
            ("codebuild-gpu.build_general1_large",),
            "CodeBuild",
        ),
        (
            start_build("BUILD_GENERAL1_LARGE", "ARM_CONTAINER"),
            1,
            8,
            0,
            ("codebuild-arm.build_general1_large",),
            "CodeBuild",
        ),
    ],
)
def test_each_service_call_is_priced(event, instances, vcpus, accelerators, types, service):
    summary = helpers.summarize_launch(event)
    assert helpers.is_launch_event(event)
    assert (summary.instance_count, summary.vcpus, summary.accelerators) == (
        instances,
        vcpus,
        accelerators,
    )
    assert summary.instance_types == types
    # Batch's "optimal" is its own choice of families: unknown, said so, never guessed.
    assert summary.unknown_instance_types == tuple(t for t in types if t == "optimal")
    assert helpers.service_name(event) == service


def test_unknown_sizes_are_named_not_guessed():
    summary = helpers.summarize_launch(create_lightsail_instances("gpu_nvidia_xl_1_0", 2))
    assert summary.unknown_instance_types == ("lightsail.gpu_nvidia_xl_1_0",)
    assert (summary.instance_count, summary.vcpus) == (2, 0)
    lambda_build = helpers.summarize_launch(
        start_build("BUILD_LAMBDA_4GB", "LINUX_LAMBDA_CONTAINER")
    )
    assert lambda_build.unknown_instance_types == ("codebuild.build_lambda_4gb",)


def test_a_gpu_node_group_alerts_naming_the_person_and_eks(kv, rules):
    event = by(create_nodegroup, ("p4d.24xlarge",), 10)
    (unusual,) = kv.run(rules["UnusualInstanceType"], [event])
    assert unusual.title_output.startswith(
        "mallory requested 10 unusual EKS instance(s) [p4d.24xlarge] via CreateNodegroup"
    )
    assert unusual.severity_output == "HIGH" and context(unusual)["service"] == "EKS"
    (surge,) = kv.run(rules["VCPUSurge"], [event])
    assert context(surge)["window_total"] == 960 and surge.dedup_output.endswith("user/mallory")


def test_the_nodes_eks_launches_are_not_counted_again(kv, rules):
    """The node group's instances come from its auto scaling group (and EKS's own calls): the
    person was charged at CreateNodegroup."""
    kv.run(rules["VCPUSurge"], [by(create_nodegroup, ("c5.24xlarge",), 8)])  # 768 vCPUs
    nodes = run_instances(
        "c5.24xlarge",
        8,
        8,
        identity=autoscaling_identity(),
        source_ip="autoscaling.amazonaws.com",
        event_time=at(T0 + 60),
    )
    eks_role = assumed_role(
        "AWSServiceRoleForAmazonEKSNodegroup", "EKS", invokedBy="eks-nodegroup.amazonaws.com"
    )
    eks_role["sessionContext"]["sessionIssuer"]["arn"] = (
        "arn:aws:iam::111122223333:role/aws-service-role/eks-nodegroup.amazonaws.com/"
        "AWSServiceRoleForAmazonEKSNodegroup"
    )
    eks_group = api_call(
        "autoscaling.amazonaws.com",
        "CreateAutoScalingGroup",
        eventTime=at(T0 + 30),
        sourceIPAddress="eks-nodegroup.amazonaws.com",
        userIdentity=eks_role,
        requestParameters={
            "autoScalingGroupName": "eks-workers-0",
            "desiredCapacity": 10,
            "maxSize": 10,
            "minSize": 10,
            "mixedInstancesPolicy": {
                "launchTemplate": {"overrides": [{"instanceType": "c5.24xlarge"}]}
            },
        },
    )
    for name in ("VCPUSurge", "HighInstanceCount", "RegionSpread"):
        assert kv.run(rules[name], [eks_group, nodes]) == [], name


def test_growing_a_node_group_counts_its_growth_at_its_types(kv, rules):
    kv.run(
        rules["VCPUSurge"],
        [by(create_nodegroup, ("c5.4xlarge",), 2, epoch=T0 - 30 * DAY, user="platform")],
    )
    (surge,) = kv.run(rules["VCPUSurge"], [by(update_nodegroup_config, 200)])
    assert context(surge)["window_total"] == 198 * 16 and surge.dedup_output.endswith("mallory")


def test_everyday_eks_stays_quiet(kv, rules):
    """A default node group of three, scaled 3 to 6 the next day by the platform team."""
    quiet(
        kv,
        rules,
        [
            by(create_nodegroup, None, 3, user="platform"),
            by(update_nodegroup_config, 6, epoch=T0 + DAY, user="platform"),
        ],
    )


def test_a_node_group_naming_a_launch_template_is_priced_by_the_templates_type(kv, rules):
    """EKS writes a node group's launch template as {id | name, version}: priced by the type of
    the template version it names (by ID; by name, no version: the default), not as EKS's
    default type (t3.medium, 20 vCPUs), which EKS uses only when neither names a type. A node
    group delivered before its template waits for it and is counted when the template comes."""

    def group(spec, user, epoch=T0):
        event = by(create_nodegroup, None, 10, epoch=epoch, user=user)
        event["requestParameters"]["launchTemplate"] = spec
        return event

    template = by(create_launch_template, "p4d.24xlarge", epoch=T0 - 3600, user="platform")
    by_id = group({"id": "lt-0780d55503d605988", "version": "1"}, "ana")
    summary = helpers.summarize_launch(by_id)
    assert summary.instance_types == () and summary.template.ref == "lt-0780d55503d605988"
    (surge,) = kv.run(rules["VCPUSurge"], [template, by_id])
    assert context(surge)["window_total"] == 960
    (unusual,) = kv.run(rules["UnusualInstanceType"], [template, by_id])
    assert "p4d.24xlarge" in unusual.title_output
    (surge,) = kv.run(rules["VCPUSurge"], [group({"name": "gpu-workers"}, "ben", T0 + 60)])
    assert context(surge)["window_total"] == 960 and surge.dedup_output.endswith("user/ben")
    late = by(create_launch_template, "p4d.24xlarge", "lt-0late0000000000", "late", epoch=T0)
    waiting = group({"id": "lt-0late0000000000", "version": "1"}, "cy", T0 + 120)
    (surge,) = kv.run(rules["VCPUSurge"], [waiting, late])
    assert context(surge)["window_total"] == 960 and surge.dedup_output.endswith("user/cy")


def test_groups_of_one_name_in_two_services_keep_their_own_sizes(kv, rules):
    """An auto scaling group and a Batch environment both named "workers": the group's resize to
    200 p3.2xlarge grows over its own 2 (1,584 vCPUs), not over the environment's 4,096 vCPUs."""
    group = by(auto_scaling_group, desired=2, override_types=("p3.2xlarge",), user="platform")
    batch = by(create_compute_environment, ("c5",), 4096, name="workers", user="platform")
    grow = by(
        auto_scaling_group,
        "UpdateAutoScalingGroup",
        200,
        max_size=200,
        override_types=("p3.2xlarge",),
        epoch=T0 + 60,
    )
    assert kv.run(rules["VCPUSurge"], [group]) == []
    kv.run(rules["VCPUSurge"], [batch])
    (surge,) = kv.run(rules["VCPUSurge"], [grow])
    assert context(surge)["window_total"] == 1584 and surge.dedup_output.endswith("user/mallory")


def test_a_large_emr_cluster_alerts_naming_the_person_and_emr(kv, rules):
    event = by(run_job_flow, (("MASTER", "m5.xlarge", 1), ("CORE", "c5.24xlarge", 10)))
    (surge,) = kv.run(rules["VCPUSurge"], [event])
    assert context(surge)["window_total"] == 964 and context(surge)["service"] == "EMR"
    (count,) = kv.run(rules["HighInstanceCount"], [event])
    assert context(count)["window_total"] == 11


def test_emr_resizes_count_their_growth(kv, rules):
    def resize(count, epoch):
        return by(
            api_call,
            "elasticmapreduce.amazonaws.com",
            "ModifyInstanceGroups",
            epoch=epoch,
            user="analyst",
            requestParameters={
                "clusterId": "j-1",
                "instanceGroups": [{"instanceGroupId": "ig-1", "instanceCount": count}],
            },
        )

    kv.run(rules["VCPUSurge"], [resize(4, T0)])  # never seen: its whole size, by number
    grow = resize(6, T0 + 3600)
    summary = helpers.summarize_launch(grow)
    assert summary.instance_count == 6 and helpers.capacity_group_name(grow) == "ig-1"
    assert kv.run(rules["HighInstanceCount"], [resize(4, T0), grow]) == []  # 4, then +2


def test_everyday_emr_stays_quiet(kv, rules):
    quiet(kv, rules, [by(run_job_flow, epoch=T0 + i * 3600, user="etl") for i in range(3)])


def test_a_gpu_batch_environment_alerts_naming_the_person_and_batch(kv, rules):
    event = by(create_compute_environment, ("p3",), min_vcpus=1024, max_vcpus=4096)
    (unusual,) = kv.run(rules["UnusualInstanceType"], [event])
    assert "unusual Batch instance(s) [p3] via CreateComputeEnvironment" in unusual.title_output
    assert unusual.severity_output == "HIGH"
    (surge,) = kv.run(rules["VCPUSurge"], [event])
    assert context(surge)["window_total"] == 1024
    assert "128 accelerator(s)" in surge.title_output  # at least 128 p3 GPUs


def test_raising_a_batch_environments_vcpus_counts_the_growth(kv, rules):
    env = by(create_compute_environment, ("c5",), epoch=T0 - DAY, user="platform")
    assert kv.run(rules["VCPUSurge"], [env]) == []
    update = by(
        api_call,
        "batch.amazonaws.com",
        "UpdateComputeEnvironment",
        requestParameters={
            "computeEnvironment": "arn:aws:batch:us-east-1:111122223333:compute-environment/jobs",
            "computeResources": {"minvCpus": 2048, "desiredvCpus": 2048},
        },
    )
    (surge,) = kv.run(rules["VCPUSurge"], [update])
    assert context(surge)["window_total"] == 2048 and surge.dedup_output.endswith("mallory")


def test_everyday_batch_stays_quiet(kv, rules):
    """Environments that run nothing until jobs queue: optimal, Fargate, a small c5 floor."""
    quiet(
        kv,
        rules,
        [
            by(create_compute_environment, user="platform"),
            by(create_compute_environment, kind="FARGATE", name="f", user="platform"),
            by(create_compute_environment, ("c5",), min_vcpus=16, name="c", user="platform"),
        ],
    )


def test_a_lightsail_fleet_alerts_and_spreads_across_regions(kv, rules):
    (surge,) = kv.run(rules["VCPUSurge"], [by(create_lightsail_instances, "4xlarge_3_0", 60)])
    assert context(surge)["window_total"] == 960 and context(surge)["service"] == "Lightsail"
    spread = [
        by(create_lightsail_instances, "xlarge_3_0", 2, epoch=T0 + i, awsRegion=region)
        for i, region in enumerate(("us-east-1", "eu-west-2", "ap-northeast-1"))
    ]
    (alert,) = kv.run(rules["RegionSpread"], spread)
    assert "compute in 3 regions" in alert.title_output


def test_everyday_lightsail_stays_quiet(kv, rules):
    quiet(kv, rules, [by(create_lightsail_instances, "nano_3_0", 1, user="web")])


def test_a_gpu_build_is_unusual_and_large_builds_add_up(kv, rules):
    gpu = by(start_build, "BUILD_GENERAL1_LARGE", "LINUX_GPU_CONTAINER", override=True)
    (unusual,) = kv.run(rules["UnusualInstanceType"], [gpu])
    assert "unusual CodeBuild instance(s) [codebuild-gpu.build_general1_large]" in (
        unusual.title_output
    )
    builds = [by(start_build, "BUILD_GENERAL1_2XLARGE", epoch=T0 + 60 + i) for i in range(12)]
    (surge,) = kv.run(rules["VCPUSurge"], builds)
    assert context(surge)["window_total"] == 12 * 72
    assert kv.run(rules["HighInstanceCount"], builds) == []  # builds are not instances


def test_everyday_ci_builds_stay_quiet(kv, rules):
    """A CI role's small and medium builds through a working day (about 60)."""
    builds = [
        by(
            start_build,
            "BUILD_GENERAL1_MEDIUM" if i % 3 else "BUILD_GENERAL1_SMALL",
            epoch=T0 + 480 * i,
            user="ci",
        )
        for i in range(60)
    ]
    quiet(kv, rules, builds)


def test_ecs_clusters_in_many_regions_are_a_region_spread(kv, rules):
    clusters = [
        by(
            api_call,
            "ecs.amazonaws.com",
            "CreateCluster",
            epoch=T0 + i,
            awsRegion=region,
            requestParameters={"clusterName": "default"},
        )
        for i, region in enumerate(("us-east-1", "us-west-2", "eu-central-1"))
    ]
    (alert,) = kv.run(rules["RegionSpread"], clusters)
    assert "compute in 3 regions" in alert.title_output
    summary = helpers.summarize_launch(clusters[0])
    assert (summary.instance_count, summary.vcpus) == (0, 0)
    for name in ("VCPUSurge", "UnusualInstanceType", "HighInstanceCount", "HijackPlaybook"):
        assert kv.run(rules[name], clusters) == [], name


def test_one_ecs_cluster_stays_quiet(kv, rules):
    quiet(
        kv,
        rules,
        [
            by(
                api_call,
                "ecs.amazonaws.com",
                "CreateCluster",
                user="platform",
                requestParameters={"clusterName": "web"},
            )
        ],
    )
