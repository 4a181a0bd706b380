import { App } from 'aws-cdk-lib';
import { DynamoCacheExampleStack } from './example-stack.js';

// `npx cdk deploy` in this folder (cdk.json runs this file with tsx). The parameters keep their
// defaults unless given: `npx cdk deploy --parameters TableName=orders_cache`.
const app = new App();
new DynamoCacheExampleStack(app, 'NestDynamoCache');
app.synth();
