"""deploy/aws/f1pipe.yaml: cfn-lint finds nothing, and the stack created in moto's
CloudFormation wires together: the bucket encrypted with public access blocked, the role's
policy naming that bucket only, the instance carrying the profile and the security group."""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "deploy" / "aws" / "f1pipe.yaml"
REGION = "eu-west-1"
# The template's default AMI is Debian's public SSM parameter: moto reserves /aws/service/ and
# resolves a parameter's default even when a value is passed, so the test's own parameter
# stands in for it in the template's text.
DEBIAN_AMI = "/aws/service/debian/release/12/latest/amd64"
AMI_PARAMETER = "/f1pipe-test/debian-12-amd64"
MOTO_AMI = "ami-12c6146b"  # one of moto's own images (listing them all takes seconds)


def cfn_lint(path: Path) -> list[str]:
    """cfn-lint's findings (its API: the rules of the `cfn-lint` command, in this process)."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches]


def test_template_is_cfn_lint_clean():
    assert cfn_lint(TEMPLATE) == []


def test_cfn_lint_catches_a_broken_template(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEMPLATE.read_text().replace("SSEAlgorithm: AES256", "SSEAlgorithm: AES128")
                   .replace("Bucket: !Ref LakeBucket\n", "Bucket: !Ref LakeBuckett\n"))
    found = "\n".join(cfn_lint(bad))
    assert "AES128" in found and "LakeBuckett" in found, found


@pytest.fixture(scope="module")
def stack():
    """The template created in moto (default parameters: no MSK); returns the stack's
    outputs and resources by logical id."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        subnet = ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"][0]
        image = ec2.describe_images(ImageIds=[MOTO_AMI])["Images"][0]["ImageId"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=AMI_PARAMETER, Value=image, Type="String")
        cfn = boto3.client("cloudformation", region_name=REGION)
        body = TEMPLATE.read_text()
        assert f"Default: {DEBIAN_AMI}" in body
        cfn.create_stack(StackName="f1", TemplateBody=body.replace(DEBIAN_AMI, AMI_PARAMETER),
                         Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "VpcId", "ParameterValue": vpc["VpcId"]},
                                     {"ParameterKey": "SubnetId",
                                      "ParameterValue": subnet["SubnetId"]},
                                     {"ParameterKey": "SshCidr",
                                      "ParameterValue": "203.0.113.7/32"}])
        described = cfn.describe_stacks(StackName="f1")["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE", described
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        # (moto lists the resources it cannot create, AWS::S3::BucketPolicy, without ids)
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                     for r in cfn.describe_stack_resources(StackName="f1")["StackResources"]
                     if "LogicalResourceId" in r}
        yield outputs, resources


def test_bucket_is_encrypted(stack):
    outputs, resources = stack
    bucket = resources["LakeBucket"]
    assert outputs["LakeBucket"] == bucket and outputs["LakeUrl"] == f"s3://{bucket}/lake"
    s3 = boto3.client("s3", region_name=REGION)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "project",
                                                                "Value": "f1pipe"}]


def template() -> dict:
    from cfnlint.decode import decode_str

    parsed, errors = decode_str(TEMPLATE.read_text())
    assert not errors
    return parsed


def test_bucket_blocks_public_access_and_plain_http():
    """(On the template: moto's CloudFormation applies a bucket's encryption and tags only,
    and creates no bucket policy.)"""
    resources = template()["Resources"]
    block = resources["LakeBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                     "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    policy = resources["LakeBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "LakeBucket"}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_role_may_touch_the_lake_bucket_only(stack):
    _, resources = stack
    bucket = resources["LakeBucket"]
    iam = boto3.client("iam", region_name=REGION)
    role = resources["InstanceRole"]
    document = iam.get_role_policy(RoleName=role, PolicyName="f1pipe-lake")["PolicyDocument"]
    if isinstance(document, str):  # moto gives the document back as a Python repr
        document = ast.literal_eval(document)
    arns = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any(a in ("*", "s3:*") for a in statement["Action"])
        arns |= set([statement["Resource"]] if isinstance(statement["Resource"], str)
                    else statement["Resource"])
    assert arns == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}


def test_instance_has_the_profile_and_the_security_group(stack):
    _, resources = stack
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = ec2.describe_instances(InstanceIds=[resources["Instance"]]) \
        ["Reservations"][0]["Instances"][0]
    iam = boto3.client("iam", region_name=REGION)
    profile = iam.get_instance_profile(InstanceProfileName=resources["InstanceProfile"])
    assert instance["IamInstanceProfile"]["Arn"] == profile["InstanceProfile"]["Arn"]
    assert [r["RoleName"] for r in profile["InstanceProfile"]["Roles"]] == \
        [resources["InstanceRole"]]
    # moto's CloudFormation reads an instance's SecurityGroups (names), not SecurityGroupIds
    # (what a VPC instance needs): the attachment is checked on the template.
    attached = template()["Resources"]["Instance"]["Properties"]["SecurityGroupIds"]
    assert attached == [{"Ref": "InstanceSecurityGroup"}]
    group = ec2.describe_security_groups(
        GroupIds=[resources["InstanceSecurityGroup"]])["SecurityGroups"][0]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissions"]] == \
        [(22, "203.0.113.7/32")]


def test_user_data_installs_f1pipe_with_the_stacks_bucket(stack):
    _, resources = stack
    import base64

    ec2 = boto3.client("ec2", region_name=REGION)
    data = ec2.describe_instance_attribute(InstanceId=resources["Instance"],
                                           Attribute="userData")["UserData"]["Value"]
    text = base64.b64decode(data).decode()
    assert text.startswith("#cloud-config")
    assert f"F1PIPE_LAKE=s3://{resources['LakeBucket']}/lake" in text
    assert "/opt/f1pipe/src/deploy/ec2/install.sh" in text


def test_no_msk_cluster_unless_asked(stack):
    _, resources = stack
    assert "MskCluster" not in resources and "MskAccessPolicy" not in resources


def test_msk_serverless_is_optional_iam_only_and_scoped():
    """(On the template: moto's CloudFormation cannot create AWS::MSK::ServerlessCluster.)"""
    resources = template()["Resources"]
    for name in ("MskCluster", "MskSecurityGroup", "MskAccessPolicy"):
        assert resources[name]["Condition"] == "MskServerless", name
    cluster = resources["MskCluster"]["Properties"]
    assert cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    policy = resources["MskAccessPolicy"]["Properties"]
    assert policy["RoleName"] == {"Ref": "InstanceRole"}
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ConnectToTheCluster"]["Resource"] == {"Fn::GetAtt": ["MskCluster", "Arn"]}
    topics = statements["F1Topics"]["Resource"]["Fn::Sub"][0]
    groups = statements["F1ConsumerGroups"]["Resource"]["Fn::Sub"][0]
    assert topics.endswith(":topic/${Name}/${Uuid}/f1*")
    assert groups.endswith(":group/${Name}/${Uuid}/f1pipe*")
    ingress = resources["MskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress == [{"Description": "Kafka IAM from the instance", "IpProtocol": "tcp",
                        "FromPort": 9098, "ToPort": 9098,
                        "SourceSecurityGroupId": {"Ref": "InstanceSecurityGroup"}}]
