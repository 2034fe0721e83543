/**
 * Consumes object messages (one per committed write, made from the change log by the stream's Pipe, or locally by
 * the stream poller) as an SQS FIFO batch. Powertools' SqsFifoPartialProcessorAsync keeps FIFO semantics under
 * partial failure: a failed message fails the rest of its message group in the batch (SQS redelivers them in
 * order after it), while other groups go on. A permanent error (a malformed message) is recorded and acknowledged;
 * anything else is transient and retried.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { Controller } from '../controller/controller.js';
import { parseObjectMessage } from '../events/object-message.js';
import { classifyFailure } from './observability.js';

async function handleRecord(controller: Controller, record: SQSRecord): Promise<void> {
  try {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined; // parseObjectMessage reports it as a permanent, invalid message
    }
    await controller.handleObjectMessage(parseObjectMessage(body));
  } catch (err) {
    const group = record.attributes?.MessageGroupId ?? '';
    if (classifyFailure(err, { messageId: record.messageId, group }) === 'transient') throw err;
  }
}

export async function handleObjectBatch(
  controller: Controller,
  records: SQSRecord[],
  context?: Context,
): Promise<SQSBatchResponse> {
  controller.newPass();
  const processor = new SqsFifoPartialProcessorAsync();
  return processPartialResponse({ Records: records }, (r: SQSRecord) => handleRecord(controller, r), processor, {
    context,
    skipGroupOnError: true,
    // Every message failing is reported like any partial failure (SQS redelivers them), not thrown.
    throwOnFullBatchFailure: false,
  });
}
