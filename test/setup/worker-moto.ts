/**
 * Vitest setup file (runs in each worker before a test file): points the worker's environment, which the SDK clients
 * and every child process (svcctl, kubectl exec plugins, the aws CLI) inherit, at this worker's moto server.
 */
import { localAwsEnv } from '../../tools/local/moto.js';
import { motoServer } from '../support/aws.js';

Object.assign(process.env, localAwsEnv(motoServer().endpoint));
