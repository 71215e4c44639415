import { DomainError } from "@edge-music/core/api-errors";

export const PASSWORD_MIN_CHARS = 10;
export const PASSWORD_MAX_CHARS = 256;

/** Length rules in the NIST 800-63B style, plus the obvious: not the email, not one repeated character. */
export const PASSWORD_RULES =
  `Passwords need ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters, ` +
  "must not be your email address, and must not be a single character repeated.";

export function checkPasswordRules(password: string, email: string): void {
  const length = [...password].length;
  const problems: string[] = [];
  if (length < PASSWORD_MIN_CHARS) problems.push(`it has ${length} characters`);
  if (length > PASSWORD_MAX_CHARS) problems.push(`it has ${length} characters`);
  if (password.trim().toLowerCase() === email.trim().toLowerCase())
    problems.push("it is your email");
  if (length > 0 && new Set(password).size === 1) problems.push("it repeats one character");
  if (problems.length > 0) {
    throw new DomainError(
      "WEAK_PASSWORD",
      `${PASSWORD_RULES} This one was refused: ${problems.join(", ")}.`,
      {
        extras: {
          rules: PASSWORD_RULES,
        },
      },
    );
  }
}
