import "./style.css";
import { api } from "./api";
import { App } from "./app";
import { account } from "./views/account";
import { signIn, signUp } from "./views/auth";
import { album, artist, track } from "./views/catalog";
import { home, search } from "./views/home";
import { library, playlist } from "./views/library";
import { studio } from "./views/studio";
import { upload } from "./views/upload";

const app = new App([
  { pattern: /^\/$/, view: home },
  { pattern: /^\/search$/, view: search },
  { pattern: /^\/signin$/, view: signIn },
  { pattern: /^\/signup$/, view: signUp },
  { pattern: /^\/artist\/([\w-]+)$/, view: artist },
  { pattern: /^\/album\/([\w-]+)$/, view: album },
  { pattern: /^\/track\/([\w-]+)$/, view: track },
  { pattern: /^\/playlist\/([\w-]+)$/, view: playlist },
  { pattern: /^\/library$/, view: library, signedIn: true },
  { pattern: /^\/upload$/, view: upload, signedIn: true },
  { pattern: /^\/account$/, view: account, signedIn: true },
  { pattern: /^\/studio$/, view: studio, signedIn: true },
]);

await api.resume().catch(() => undefined);
await app.render();
