// The app's users table, in memory for the example: numeric ids, as in any SQL database.
const { randomBytes, scryptSync, timingSafeEqual } = require("node:crypto");

function hash(password, salt = randomBytes(16)) {
  return { salt, hash: scryptSync(password, salt, 32) };
}

const rows = [
  { id: 1, email: "jake@example.com", username: "jake", bio: "I work at statefarm", ...hash("jakejake") },
  { id: 2, email: "anna@example.com", username: "anna", bio: "", ...hash("annaanna") },
];

exports.findByEmail = (email) => rows.find((user) => user.email === email) ?? null;

exports.findById = (id) => rows.find((user) => user.id === id) ?? null;

exports.checkPassword = (user, password) => timingSafeEqual(user.hash, hash(String(password), user.salt).hash);

exports.toProfile = ({ email, username, bio }) => ({ email, username, bio });
