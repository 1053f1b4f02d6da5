import { packageConfig } from '../../tsup.package.js';

export default packageConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
