#!/usr/bin/env node
// svcctl entry point: runs the TypeScript CLI through tsx's loader, so there is no build step to forget.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('../cli/svcctl.ts');
