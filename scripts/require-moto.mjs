// Fails fast, with the install command, when moto server is not on this machine (tests and `npm start` need it).
import { spawnSync } from 'node:child_process';
const r = spawnSync('python3', ['-c', 'import moto.server, flask'], { stdio: 'ignore' });
if (r.status !== 0) {
  console.error('moto server is required but was not found: `python3 -c "import moto.server"` failed.');
  console.error('Install it with:  pip install "moto[server]"');
  process.exit(1);
}
