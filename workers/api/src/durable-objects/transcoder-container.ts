import { Container } from "@cloudflare/containers";

/**
 * The transcoder in production: the image built from containers/transcoder/Dockerfile, run
 * as a Cloudflare Container. It listens on 8080, answers `GET /ping` when ready, sleeps
 * after ten idle minutes, and needs the internet to reach R2's presigned URLs.
 */
export class TranscoderContainer extends Container<Env> {
  override defaultPort = 8080;
  override sleepAfter = "10m";
  override pingEndpoint = "localhost/ping";
  override enableInternet = true;

  constructor(ctx: ConstructorParameters<typeof Container<Env>>[0], env: Env) {
    super(ctx, env);
    this.envVars = { TRANSCODER_SECRET: env.TRANSCODER_SECRET, TRANSCODER_PORT: "8080" };
  }
}
