"""An instance lifecycle through boto3 against an EC2 endpoint, as an EC2 user writes it.

Launches into the region's default subnet through a network interface, finds the instance by tag,
waits with boto3's own waiters, images it, makes a volume and a snapshot of it, stops and starts it,
deletes what it made (each delete followed at once by a re-read), and terminates it. Prints one JSON
object: per step, what it saw or the error it met. Steps that need an earlier step's result are
recorded as skipped when that step failed. Environment: SKYGATE_EC2_ENDPOINT, AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, RUN (a suffix that makes names unique).
"""

import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

RUN = os.environ.get("RUN", "0")
# Short delays: the endpoint is local; the attempts bound each wait to about a minute.
WAIT = {"Delay": 1, "MaxAttempts": 60}

ec2 = boto3.client(
    "ec2",
    endpoint_url=os.environ["SKYGATE_EC2_ENDPOINT"],
    config=Config(retries={"max_attempts": 2, "mode": "standard"}),
)

steps = {}
state = {}


class Skipped(Exception):
    pass


def need(*keys):
    for key in keys:
        if key not in state:
            raise Skipped(f"needs {key}")
    return [state[k] for k in keys]


def step(name):
    """Runs the decorated function at once, as the step `name`, recording what it returns or the error it raised."""

    def run(fn):
        try:
            steps[name] = {"ok": True, **(fn() or {})}
        except Skipped as e:
            steps[name] = {"ok": False, "skipped": str(e)}
        except ClientError as e:
            err = e.response.get("Error", {})
            steps[name] = {"ok": False, "error": {"code": err.get("Code"), "message": err.get("Message")}}
        except WaiterError as e:
            last = e.last_response.get("Error", {}) if isinstance(e.last_response, dict) else {}
            steps[name] = {"ok": False, "error": {"code": "WaiterError", "message": str(e), "last": last}}
        return fn

    return run


def error_code(call):
    """The EC2 error code a call answers, or None when it succeeds."""
    try:
        call()
    except ClientError as e:
        return e.response.get("Error", {}).get("Code")
    return None


def interfaces(instance):
    """What an instance shows of its network interfaces."""
    return [
        {
            "subnetId": i.get("SubnetId"),
            "groups": [g["GroupId"] for g in i.get("Groups", [])],
            "description": i.get("Description"),
            "deleteOnTermination": i.get("Attachment", {}).get("DeleteOnTermination"),
            "deviceIndex": i.get("Attachment", {}).get("DeviceIndex"),
        }
        for i in instance.get("NetworkInterfaces", [])
    ]


@step("network")
def _():
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "default-for-az", "Values": ["true"]},
        ]
    )["Subnets"]
    subnet = sorted(subnets, key=lambda s: s["AvailabilityZone"])[0]
    group = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    image = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["ubuntu-*"]}])["Images"][0]
    state.update(vpc=vpc["VpcId"], subnet=subnet["SubnetId"], zone=subnet["AvailabilityZone"])
    state.update(group=group["GroupId"], base_image=image["ImageId"])
    return {"vpc": vpc["VpcId"], "subnet": subnet["SubnetId"], "zone": subnet["AvailabilityZone"], "group": group["GroupId"]}


@step("launch")
def _():
    subnet, group, image = need("subnet", "group", "base_image")
    res = ec2.run_instances(
        ImageId=image,
        InstanceType="sim.small",
        MinCount=1,
        MaxCount=1,
        NetworkInterfaces=[
            {
                "DeviceIndex": 0,
                "SubnetId": subnet,
                "Groups": [group],
                "AssociatePublicIpAddress": False,
                "DeleteOnTermination": True,
                "Description": "x",
            }
        ],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"boto3-{RUN}"}]}],
    )
    instance = res["Instances"][0]
    state["instance"] = instance["InstanceId"]
    return {
        "instanceId": instance["InstanceId"],
        "subnetId": instance.get("SubnetId"),
        "interfaces": interfaces(instance),
    }


@step("find_by_tag")
def _():
    (instance,) = need("instance")
    res = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": [f"boto3-{RUN}"]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    found = [i["InstanceId"] for r in res["Reservations"] for i in r["Instances"]]
    return {"found": found, "expected": instance}


@step("wait_running")
def _():
    (instance,) = need("instance")
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig=WAIT)
    i = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    return {
        "state": i["State"]["Name"],
        "subnetId": i.get("SubnetId"),
        "zone": i["Placement"]["AvailabilityZone"],
        "groups": [g["GroupId"] for g in i.get("SecurityGroups", [])],
        "publicIp": i.get("PublicIpAddress"),
        "interfaces": interfaces(i),
    }


@step("create_image")
def _():
    (instance,) = need("instance")
    image = ec2.create_image(InstanceId=instance, Name=f"boto3-image-{RUN}")["ImageId"]
    state["image"] = image
    ec2.get_waiter("image_available").wait(ImageIds=[image], WaiterConfig=WAIT)
    return {"imageId": image}


@step("describe_image")
def _():
    (image,) = need("image")
    images = ec2.describe_images(ImageIds=[image])["Images"]
    return {"images": [{"id": i["ImageId"], "name": i.get("Name"), "state": i["State"]} for i in images]}


@step("create_volume")
def _():
    (zone,) = need("zone")
    volume = ec2.create_volume(
        AvailabilityZone=zone,
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"boto3-{RUN}"}]}],
    )["VolumeId"]
    state["volume"] = volume
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume], WaiterConfig=WAIT)
    return {"volumeId": volume}


@step("create_snapshot")
def _():
    (volume,) = need("volume")
    snapshot = ec2.create_snapshot(VolumeId=volume, Description=f"boto3-{RUN}")["SnapshotId"]
    state["snapshot"] = snapshot
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot], WaiterConfig=WAIT)
    return {"snapshotId": snapshot}


@step("stop")
def _():
    (instance,) = need("instance")
    ec2.stop_instances(InstanceIds=[instance])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance], WaiterConfig=WAIT)
    return {}


@step("start")
def _():
    (instance,) = need("instance")
    ec2.start_instances(InstanceIds=[instance])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig=WAIT)
    return {}


def reread(call, items, field):
    """What a read right after a delete shows: the states it lists, or the EC2 error it answers."""
    try:
        return {"seen": [x[field] for x in call()[items]], "error": None}
    except ClientError as e:
        return {"seen": [], "error": e.response["Error"]["Code"]}


@step("deregister_image")
def _():
    (image,) = need("image")
    ec2.deregister_image(ImageId=image)
    # No sleep: EC2 answers a deregistered AMI as such from the next call on (empty, or 'deregistered').
    return reread(lambda: ec2.describe_images(ImageIds=[image]), "Images", "State")


@step("delete_snapshot")
def _():
    (snapshot,) = need("snapshot")
    ec2.delete_snapshot(SnapshotId=snapshot)
    return reread(lambda: ec2.describe_snapshots(SnapshotIds=[snapshot]), "Snapshots", "State")


@step("delete_volume")
def _():
    (volume,) = need("volume")
    ec2.delete_volume(VolumeId=volume)
    return reread(lambda: ec2.describe_volumes(VolumeIds=[volume]), "Volumes", "State")


@step("terminate")
def _():
    (instance,) = need("instance")
    ec2.terminate_instances(InstanceIds=[instance])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance], WaiterConfig=WAIT)
    state["terminated"] = True
    return {}


# Whatever failed above, leave no instance running behind.
if "instance" in state and "terminated" not in state:
    error_code(lambda: ec2.terminate_instances(InstanceIds=[state["instance"]]))

json.dump({"boto3": boto3.__version__, "steps": steps}, sys.stdout)
