import { packageBuild } from '../../tsup.base.js';

// The library face (src/index.ts) plus the `strata` executable (src/bin.ts keeps its shebang).
export default packageBuild(['src/index.ts', 'src/bin.ts']);
