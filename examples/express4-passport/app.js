// An Express 4 API in the style of RealWorld's "Conduit": its own passport-local login, its own
// `Authorization: Token <jwt>` scheme and its own error format. solo-session starts, checks and
// ends the sessions: one live session per user, the old device signed out at once.
const express = require("express");
const passport = require("passport");
const { Strategy: LocalStrategy } = require("passport-local");
const { createSoloServer, SoloError } = require("solo-session/server");
const users = require("./users");

passport.use(
  new LocalStrategy({ usernameField: "user[email]", passwordField: "user[password]" }, (email, password, done) => {
    const user = users.findByEmail(email);
    done(null, user && users.checkPassword(user, password) ? user : false);
  }),
);

const articles = [
  { slug: "how-to-train-your-dragon", title: "How to train your dragon", favoritedBy: [1] },
  { slug: "one-session-per-user", title: "One session per user", favoritedBy: [] },
];

/** The app, and the solo-session server to attach to its HTTP server (`solo.attach(server)`). */
function createApp({ dataDir } = {}) {
  const solo = createSoloServer({ dataDir, token: { schemes: ["Token"] } });
  const app = express();
  app.use(express.json());
  app.use("/auth", solo.router); // GET /auth/session for browsers on the cookie

  // The app's own login: passport checks the password, then solo-session starts the session
  // (and signs out the user's other device).
  const checkPassword = passport.authenticate("local", { session: false, failWithError: true });
  app.post("/users/login", checkPassword, async (req, res, next) => {
    try {
      const { token } = await solo.startSession(req, res, { userId: req.user.id }); // a number: stored as "1"
      res.json({ user: { ...users.toProfile(req.user), token } });
    } catch (err) {
      next(err);
    }
  });

  app.post("/users/logout", async (req, res, next) => {
    try {
      await solo.endSession(req, res);
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });

  app.get("/user", solo.requireSession(), (req, res) => {
    res.json({ user: users.toProfile(users.findById(Number(req.solo.userId))) });
  });

  // Anonymous reads, personalised when signed in.
  app.get("/articles", solo.requireSession({ optional: true }), (req, res) => {
    const reader = req.solo ? Number(req.solo.userId) : null;
    const list = articles.map(({ favoritedBy, ...article }) => ({
      ...article,
      favorited: favoritedBy.includes(reader),
    }));
    res.json({ articles: list, articlesCount: list.length });
  });

  // One error format for everything, solo-session's refusals included: { errors: { what: [message] } }.
  app.use((err, _req, res, next) => {
    if (err instanceof SoloError) {
      res.status(err.status).json({ errors: { [err.code]: [err.message] } });
    } else if (err.name === "AuthenticationError") {
      res.status(422).json({ errors: { "email or password": ["is invalid"] } });
    } else {
      next(err);
    }
  });

  return { app, solo };
}

module.exports = { createApp };
