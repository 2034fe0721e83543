/**
 * Consumes object change events (Service, Pod, Endpoints), either as an SQS FIFO batch (the deployed wiring) or as a
 * single EventBridge event (direct invocation, tests). FIFO semantics are kept under partial batch failure: once a
 * message of a group fails, every later message of that group in the batch is reported failed too, so SQS
 * redelivers them in order after the failed one.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { Controller } from '../controller/controller.js';
import { parseObjectEvent } from '../events/envelope.js';
import { classifyFailure } from './observability.js';

export async function handleObjectEvent(controller: Controller, raw: unknown): Promise<void> {
  controller.newPass();
  const ev = parseObjectEvent(raw);
  await controller.handleObjectEvent(ev);
}

export async function handleObjectBatch(controller: Controller, records: SQSRecord[]): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const blockedGroups = new Set<string>();
  controller.newPass();
  for (const record of records) {
    const group = record.attributes?.MessageGroupId ?? '';
    if (group && blockedGroups.has(group)) {
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        body = undefined; // parseObjectEvent reports it as a permanent, invalid event
      }
      await controller.handleObjectEvent(parseObjectEvent(body));
    } catch (err) {
      if (classifyFailure(err, { messageId: record.messageId, group }) === 'transient') {
        failures.push({ itemIdentifier: record.messageId });
        if (group) blockedGroups.add(group);
      }
    }
  }
  return { batchItemFailures: failures };
}
