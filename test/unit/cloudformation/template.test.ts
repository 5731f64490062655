import { describe, expect, it } from 'vitest';
import { parseParameters, parseTemplate, serializeTemplate, SHORT_FORM_TAGS, templatePathLine, templateParameters } from '../../../lib/render/cloudformation-template.js';

const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
  Cidr:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Condition IsProd, !Condition NotProd]]
Mappings:
  Sizes:
    prod: {instance: m5.large}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref Cidr
      Tags:
        - Key: Name
          Value: !Sub "\${AWS::StackName}-vpc"
        - Key: Joined
          Value: !Join ["-", [a, !Ref Env]]
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !GetAtt Vpc.VpcId
      AvailabilityZone: !Select [0, !GetAZs ""]
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      Parts: !Split [",", "a,b"]
      Size: !FindInMap [Sizes, prod, instance]
      UserData: !Base64 "echo hi"
      Imported: !ImportValue shared-vpc-id
      Maybe: !If [IsProd, yes-value, !Ref AWS::NoValue]
Outputs:
  VpcId:
    Value: !Ref Vpc
`;

describe('parseTemplate', () => {
  it('keeps every short-form tag through a parse and re-serialise', () => {
    const t = parseTemplate(TEMPLATE, 'template.yaml');
    const out = serializeTemplate(t);
    for (const tag of SHORT_FORM_TAGS.filter((x) => x !== 'Transform')) expect(out).toContain(`!${tag} `);
    const again = serializeTemplate(parseTemplate(out, 'again.yaml'));
    expect(again).toBe(out);
    expect(out).toContain('!Sub "${AWS::StackName}-vpc"');
    expect(out).toContain('!GetAtt Vpc.VpcId');
    expect(templateParameters(t)).toEqual(['Env', 'Cidr']);
  });

  it('reads JSON templates', () => {
    const t = parseTemplate('{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}', 't.json');
    expect(t.format).toBe('json');
  });

  it.each([
    ['Resources: [\n', 't.yaml:', 'invalid YAML template'],
    ['Parameters: {}\n', 't.yaml', 'needs a Resources section'],
    ['{"Resources": ', 't.yaml', 'invalid JSON template'],
  ])('fails on %j', (text, file, message) => {
    expect(() => parseTemplate(text, 't.yaml')).toThrow(message);
    expect(() => parseTemplate(text, 't.yaml')).toThrow(file);
  });
});

describe('parseParameters', () => {
  it('reads the CLI list form and a plain map', () => {
    expect(parseParameters('[{"ParameterKey": "Env", "ParameterValue": "prod"}]', 'p.json')).toEqual([{ ParameterKey: 'Env', ParameterValue: 'prod' }]);
    expect(parseParameters('Env: prod\nZones: [a, b]\nCount: 3\n', 'p.yaml')).toEqual([
      { ParameterKey: 'Env', ParameterValue: 'prod' },
      { ParameterKey: 'Zones', ParameterValue: 'a,b' },
      { ParameterKey: 'Count', ParameterValue: '3' },
    ]);
  });
  it('fails on an entry without ParameterKey', () => {
    expect(() => parseParameters('[{"ParameterValue": "x"}]', 'p.json')).toThrow('p.json: entry 0 has no ParameterKey');
  });
});

describe('templatePathLine', () => {
  const yaml =
    'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub "${AWS::StackName}-logs"\n      Tags:\n        - Key: team\n          Value: infra\n';
  it('finds the line of a validation path in YAML (short-form tags included) and JSON, or of its deepest existing node', () => {
    expect(templatePathLine(yaml, '/Resources/Logs/Properties/BucketName')).toBe(6);
    expect(templatePathLine(yaml, '/Resources/Logs/Properties/Tags/0/Value')).toBe(9);
    expect(templatePathLine(yaml, 'Resources.Logs.Type')).toBe(4);
    expect(templatePathLine(yaml, '/Resources/Logs/Properties/Missing')).toBe(5);
    expect(templatePathLine(yaml, '/Outputs/X')).toBeUndefined();
    const json = JSON.stringify({ Resources: { Logs: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'x' } } } }, null, 2);
    expect(templatePathLine(json, '/Resources/Logs/Properties/BucketName')).toBe(6);
    expect(templatePathLine('{ not: [valid', '/Resources')).toBeUndefined();
  });
});
