/** Tag updates on existing resources (ELBv2 AddTags/RemoveTags, EC2 CreateTags/DeleteTags), and tag conversions. */
import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import {
  AddTagsCommand,
  DescribeTagsCommand,
  RemoveTagsCommand,
  type Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ec2, elb } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action } from '../model.js';

export const toTags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

export const tagMap = (tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

export async function applyTags(ctx: LoadBalancerContext, a: Extract<Action, { kind: 'Tags' }>): Promise<void> {
  const add = Object.keys(a.add).length > 0;
  if (a.service === 'elbv2') {
    if (add) await elb(ctx, new AddTagsCommand({ ResourceArns: [a.resource], Tags: toTags(a.add) }));
    if (a.remove.length) await elb(ctx, new RemoveTagsCommand({ ResourceArns: [a.resource], TagKeys: a.remove }));
  } else {
    if (add) await ec2(ctx, new CreateTagsCommand({ Resources: [a.resource], Tags: toTags(a.add) }));
    if (a.remove.length)
      await ec2(ctx, new DeleteTagsCommand({ Resources: [a.resource], Tags: a.remove.map((Key) => ({ Key })) }));
  }
}

/** The tags of one ELBv2 resource, for adopt-by-name ({} when the resource has no ARN: then it cannot be ours). */
export async function elbTagsOf(ctx: LoadBalancerContext, arn: string | undefined): Promise<Record<string, string>> {
  if (!arn) return {};
  const t = await elb(ctx, new DescribeTagsCommand({ ResourceArns: [arn] }));
  return tagMap(t?.TagDescriptions?.[0]?.Tags);
}
