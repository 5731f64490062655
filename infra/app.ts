import { App } from 'aws-cdk-lib';

/** The CDK app that deploys the reconciler (the stack itself lands with its own issue). */
const app = new App();
app.synth();
