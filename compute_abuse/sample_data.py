"""Generate the bundled sample: four days of CloudTrail of a small organisation, attacks mixed in.

Deterministic (seeded), written in CloudTrail's S3 layout as gzipped {"Records": [...]} objects:
  samples/cloudtrail/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz

What happens in it (README shows the replay's output):
- everyday work: applications reading S3 and KMS, monitoring describing instances, console users,
  an auto scaling group and an EKS node group launching on their own, Karpenter validating with
  dry runs every half hour, CI launching and terminating test instances a few times a day, and a
  data scientist who launches one GPU instance (the alert a team tunes away);
- attack 1, day 3: the access key of "backup-sync" (a backup job's IAM user) is used from a new
  IP and SDK to sweep the P-instance quota across twelve regions, ask for a quota increase, probe
  with a dry run, then launch GPU instances across four regions (one refused by the vCPU quota),
  turn on termination protection for one, and finish with CPU instances: about 930 vCPUs in 70
  minutes; CloudTrail delivers one of its records twice;
- attack 2, day 2: a Stratus Red Team style attempt to launch 10 p2.xlarge, refused by IAM;
- attack 3, all four days: a slow drip, one 96-vCPU instance every 9 hours from the "legacy-batch"
  role, which stays under every threshold and must not alert.
"""

import gzip
import json
import random
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from compute_abuse import events as factory

SEED = 20240805
ACCOUNT = factory.ACCOUNT_ID
START = datetime(2024, 8, 5, tzinfo=UTC)
DAYS = 4
FILE_HOURS = 6  # one S3 object per region per 6 hours (CloudTrail writes every ~5 minutes)

ONPREM_IP = "198.51.100.10"
ATTACKER_IP = "203.0.113.66"
CI_IP = "192.0.2.44"
CONSOLE_UA = "AWS Internal"
ATTACKER_UA = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0-1017-aws md/arch#x86_64 "
    "lang/python#3.12.3"
)
CLI_UA = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off"
SWEPT_REGIONS = factory.REGIONS
KARPENTER_UA = "aws-sdk-go/1.51.16 (go1.22.2; linux; amd64) karpenter.sh-v0.36.1"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sso(user: str) -> dict:
    return factory.assumed_role("AWSReservedSSO_PowerUser_4f2a9c1e0b7d3a61", user)


class _Organisation:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.records: list[dict] = []

    def add(self, event: dict, moment: datetime, region: str = "us-east-1") -> dict:
        event["eventTime"] = _time(moment)
        event["awsRegion"] = region
        event.pop("p_log_type", None)  # Panther adds it; raw CloudTrail has none
        self.records.append(event)
        return event

    def api(self, moment, source, name, identity, ip, agent, region="us-east-1", **fields):
        event = factory.api_call(
            source, name, userIdentity=identity, sourceIPAddress=ip, userAgent=agent, **fields
        )
        return self.add(event, moment, region)

    def launch(
        self,
        moment,
        instance_type,
        count,
        identity,
        ip,
        agent,
        region="us-east-1",
        error_code=None,
        **fields,
    ):
        event = factory.run_instances(
            instance_type,
            count,
            count,
            identity=identity,
            source_ip=ip,
            user_agent=agent,
            error_code=error_code,
            **fields,
        )
        if not error_code:
            for item in event["responseElements"]["instancesSet"]["items"]:
                item["placement"]["availabilityZone"] = f"{region}a"
        return self.add(event, moment, region)

    # --- everyday work ------------------------------------------------------------------------

    def background(self, day: datetime) -> None:
        app = factory.assumed_role("orders-api", "i-0a8b7c6d5e4f30201")
        monitor = factory.assumed_role("DatadogIntegrationRole", "datadog-aws-integration")
        backup = factory.iam_user("backup-sync")
        for minute in range(0, 24 * 60, 6):
            moment = day + timedelta(minutes=minute, seconds=self.rng.randrange(60))
            self.api(
                moment,
                "s3.amazonaws.com",
                self.rng.choice(["GetObject", "PutObject"]),
                app,
                "10.0.12.34",
                "aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM",
            )
            self.api(
                moment,
                "kms.amazonaws.com",
                "Decrypt",
                app,
                "10.0.12.34",
                "aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM",
            )
            if minute % 12 == 0:
                self.api(
                    moment,
                    "ec2.amazonaws.com",
                    "DescribeInstances",
                    monitor,
                    "3.233.146.1",
                    "Datadog",
                    region=self.rng.choice(["us-east-1", "eu-west-1"]),
                )
            if minute % 60 == 0:
                self.api(
                    moment,
                    "sts.amazonaws.com",
                    "AssumeRole",
                    app,
                    "ec2.amazonaws.com",
                    "ec2.amazonaws.com",
                )
            if minute % 240 == 0:  # the backup job: its key's usual place and SDK
                self.api(
                    moment,
                    "s3.amazonaws.com",
                    "PutObject",
                    backup,
                    ONPREM_IP,
                    "aws-sdk-java/1.12.588 Linux/4.18.0 OpenJDK_64-Bit_Server_VM",
                )
        for person in ("alice@example.com", "carol@example.com"):
            login = day + timedelta(hours=8 + self.rng.randrange(2), minutes=self.rng.randrange(60))
            self.api(
                login,
                "signin.amazonaws.com",
                "ConsoleLogin",
                _sso(person),
                "198.51.100.77",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
            )
            for step in range(12):
                self.api(
                    login + timedelta(minutes=5 * step),
                    "ec2.amazonaws.com",
                    self.rng.choice(
                        ["DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes"]
                    ),
                    _sso(person),
                    "198.51.100.77",
                    CONSOLE_UA,
                )

    def services(self, day: datetime) -> None:
        asg = factory.autoscaling_identity()
        eks = factory.assumed_role(
            "AWSServiceRoleForAmazonEKSNodegroup", "EKS", invokedBy="eks-nodegroup.amazonaws.com"
        )
        template = {"launchTemplateId": "lt-0a1b2c3d4e5f60708", "version": "7"}
        for hour in sorted(self.rng.sample(range(24), 6)):
            self.launch(
                day + timedelta(hours=hour, minutes=self.rng.randrange(60)),
                "m5.large",
                1,
                asg,
                "autoscaling.amazonaws.com",
                "autoscaling.amazonaws.com",
                launch_template=template,
                subnet_id=self.rng.choice(["subnet-0aa1", "subnet-0bb2", "subnet-0cc3"]),
            )
        for hour in (3, 11, 19):
            self.launch(
                day + timedelta(hours=hour, minutes=17),
                "m5.xlarge",
                1,
                eks,
                "eks-nodegroup.amazonaws.com",
                "eks-nodegroup.amazonaws.com",
                launch_template=template,
            )
        karpenter = factory.assumed_role("KarpenterControllerRole-prod", "1722844800123456789")
        for half_hour in range(48):
            self.launch(
                day + timedelta(minutes=30 * half_hour + 2),
                "c6i.2xlarge",
                1,
                karpenter,
                "10.0.40.12",
                KARPENTER_UA,
                error_code="Client.DryRunOperation",
            )
        ci = factory.assumed_role("github-actions-ci", "GitHubActions")
        for hour in (9, 13, 16, 21):
            moment = day + timedelta(hours=hour, minutes=self.rng.randrange(50))
            launched = self.launch(
                moment, "t3.large", 2, ci, CI_IP, CLI_UA, subnet_id="subnet-0ci0"
            )
            ids = [i["instanceId"] for i in launched["responseElements"]["instancesSet"]["items"]]
            self.api(
                moment + timedelta(minutes=25),
                "ec2.amazonaws.com",
                "TerminateInstances",
                ci,
                CI_IP,
                CLI_UA,
                requestParameters={"instancesSet": {"items": [{"instanceId": i} for i in ids]}},
            )

    def people(self) -> None:
        self.launch(
            START + timedelta(days=1, hours=10, minutes=12),
            "t3.medium",
            1,
            _sso("alice@example.com"),
            "198.51.100.77",
            CONSOLE_UA,
        )
        # A data scientist's notebook instance: a true GPU launch a team would tune away.
        self.launch(
            START + timedelta(days=2, hours=9, minutes=41),
            "g5.xlarge",
            1,
            _sso("bob@example.com"),
            "198.51.100.78",
            CONSOLE_UA,
        )

    # --- attacks ------------------------------------------------------------------------------

    def stolen_key_gpu_burst(self) -> None:
        key = factory.iam_user("backup-sync")
        at = START + timedelta(days=2, hours=14, minutes=3)
        self.api(at, "sts.amazonaws.com", "GetCallerIdentity", key, ATTACKER_IP, ATTACKER_UA)
        self.api(
            at + timedelta(minutes=1),
            "ec2.amazonaws.com",
            "DescribeRegions",
            key,
            ATTACKER_IP,
            ATTACKER_UA,
        )
        quota = {"serviceCode": "ec2", "quotaCode": "L-417A185B"}
        for index, region in enumerate(SWEPT_REGIONS):  # how much may this key launch, where?
            moment = at + timedelta(minutes=2, seconds=2 * index)
            self.api(
                moment,
                "servicequotas.amazonaws.com",
                "GetServiceQuota",
                key,
                ATTACKER_IP,
                ATTACKER_UA,
                region=region,
                requestParameters=quota,
            )
        requested = {**quota, "desiredValue": 384}
        self.api(
            at + timedelta(minutes=3),
            "servicequotas.amazonaws.com",
            "RequestServiceQuotaIncrease",
            key,
            ATTACKER_IP,
            ATTACKER_UA,
            requestParameters=requested,
            responseElements={"requestedQuota": {**requested, "status": "PENDING"}},
        )
        self.launch(
            at + timedelta(minutes=4),
            "p3.16xlarge",
            4,
            key,
            ATTACKER_IP,
            ATTACKER_UA,
            error_code="Client.DryRunOperation",
        )
        burst = [
            (6, "us-east-1", "p3.16xlarge", 4, None),
            (19, "us-west-2", "g5.12xlarge", 4, None),
            (31, "ap-southeast-1", "p4d.24xlarge", 2, "Client.VcpuLimitExceeded"),
            (44, "eu-west-1", "g4dn.12xlarge", 6, None),
            (70, "us-east-2", "c5.24xlarge", 2, None),
        ]
        for minutes, region, instance_type, count, error in burst:
            event = self.launch(
                at + timedelta(minutes=minutes),
                instance_type,
                count,
                key,
                ATTACKER_IP,
                ATTACKER_UA,
                region=region,
                error_code=error,
            )
            if region == "us-west-2":  # CloudTrail delivers this record twice
                self.records.append(json.loads(json.dumps(event)))
                # ... and the miner is protected against clean-up scripts
                first = event["responseElements"]["instancesSet"]["items"][0]["instanceId"]
                protect = {"instanceId": first, "disableApiTermination": {"value": True}}
                self.api(
                    at + timedelta(minutes=minutes + 2),
                    "ec2.amazonaws.com",
                    "ModifyInstanceAttribute",
                    key,
                    ATTACKER_IP,
                    ATTACKER_UA,
                    region=region,
                    requestParameters=protect,
                    responseElements={"_return": True},
                )

    def stratus_attempt(self) -> None:
        role = factory.assumed_role("stratus-red-team-ec2-role", "aws-go-sdk-1722946211294449000")
        self.launch(
            START + timedelta(days=1, hours=15, minutes=30),
            "p2.xlarge",
            10,
            role,
            "198.51.100.9",
            "stratus-red-team_4e2d9c1a-5b6f-4c3d-9e8a-7f1b2c3d4e5f",
            error_code="Client.UnauthorizedOperation",
        )

    def slow_drip(self) -> None:
        role = factory.assumed_role("legacy-batch", "batch-runner")
        moment = START + timedelta(hours=2)
        while moment < START + timedelta(days=DAYS):
            self.launch(moment, "c5.24xlarge", 1, role, "192.0.2.200", CLI_UA)
            moment += timedelta(hours=9)

    def scheduled_fargate_report(self) -> None:
        """Everyday ECS: a half-vCPU Fargate report task EventBridge Scheduler runs every hour."""
        role = factory.assumed_role("report-scheduler", "scheduler-run")
        moment = START + timedelta(minutes=5)
        while moment < START + timedelta(days=DAYS):
            self.add(
                factory.run_task(
                    "nightly-report:12",
                    1,
                    cpu="512",
                    userIdentity=role,
                    sourceIPAddress="scheduler.amazonaws.com",
                    userAgent="scheduler.amazonaws.com",
                ),
                moment,
            )
            moment += timedelta(hours=1)

    def ecs_miner_service(self) -> None:
        """A second stolen key: a task definition of 16 vCPUs, then a Fargate service of 60."""
        key = factory.iam_user("svc-reporting")
        at = START + timedelta(days=3, hours=2, minutes=11)
        self.add(
            factory.register_task_definition(
                "sysupdate",
                "16384",
                revision=1,
                userIdentity=key,
                sourceIPAddress=ATTACKER_IP,
                userAgent=ATTACKER_UA,
            ),
            at,
        )
        self.add(
            factory.create_service(
                "sysupdate",
                desired=60,
                name="sysupdate",
                userIdentity=key,
                sourceIPAddress=ATTACKER_IP,
                userAgent=ATTACKER_UA,
            ),
            at + timedelta(seconds=40),
        )


def generate() -> list[dict]:
    """Every record of the sample, in time order."""
    factory.seed_ids(SEED)
    # Sample data, no cryptographic use of the generator.
    organisation = _Organisation(random.Random(SEED))  # nosec B311
    for day in range(DAYS):
        organisation.background(START + timedelta(days=day))
        organisation.services(START + timedelta(days=day))
    organisation.people()
    organisation.stolen_key_gpu_burst()
    organisation.stratus_attempt()
    organisation.slow_drip()
    organisation.scheduled_fargate_report()
    organisation.ecs_miner_service()
    return sorted(organisation.records, key=lambda r: (r["eventTime"], r["eventID"]))


def write(root: Path) -> int:
    """Write the sample under `root` in the S3 layout; returns the number of records."""
    files: dict[Path, list[dict]] = defaultdict(list)
    for record in generate():
        moment = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        moment = moment.replace(hour=moment.hour - moment.hour % FILE_HOURS, minute=0)
        region = record["awsRegion"]
        folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / region / moment.strftime("%Y/%m/%d")
        name = f"{ACCOUNT}_CloudTrail_{region}_{moment:%Y%m%dT%H%MZ}_sample.json.gz"
        files[folder / name].append(record)
    if root.exists():
        shutil.rmtree(root)
    for path, records in sorted(files.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": records}, separators=(",", ":")).encode()
        path.write_bytes(gzip.compress(body, mtime=0))  # mtime 0: byte-identical on every run
    return sum(len(records) for records in files.values())
