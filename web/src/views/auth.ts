import { api, describeError } from "../api";
import { h } from "../dom";
import type { View } from "../app";

/** Sign in and sign up share one form; `next` says where to go afterwards. */
function authForm(mode: "signin" | "signup"): View {
  return (app, _params, query) => {
    const error = h("p", { class: "error", role: "alert" });
    const email = h("input", {
      type: "email",
      name: "email",
      required: true,
      autocomplete: "email",
    });
    const password = h("input", {
      type: "password",
      name: "password",
      required: true,
      minLength: mode === "signup" ? 10 : 1,
      autocomplete: mode === "signup" ? "new-password" : "current-password",
    });
    const name = h("input", { name: "displayName", required: true, maxLength: 80 });
    const form = h(
      "form",
      {
        class: "card auth",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.textContent = "";
          try {
            if (mode === "signup") await api.register(email.value, password.value, name.value);
            else await api.signIn(email.value, password.value);
            app.go(query.get("next") ?? "#/");
          } catch (err) {
            error.textContent = describeError(err);
          }
        },
      },
      h("h1", {}, mode === "signup" ? "Create an account" : "Sign in"),
      mode === "signup" ? h("label", {}, "Your name", name) : null,
      h("label", {}, "Email", email),
      h("label", {}, "Password", password),
      mode === "signup" ? h("small", {}, "At least 10 characters.") : null,
      h("button", { type: "submit", class: "primary" }, mode === "signup" ? "Sign up" : "Sign in"),
      error,
      mode === "signup"
        ? h("p", {}, "Have an account? ", h("a", { href: "#/signin" }, "Sign in"))
        : h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
    );
    return form;
  };
}

export const signIn = authForm("signin");
export const signUp = authForm("signup");
