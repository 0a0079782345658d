const { createApp } = require("./app");

const { app, solo } = createApp({ dataDir: process.env.DATA_DIR });

solo.ready.then(
  () => {
    const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST, () => {
      console.log(`listening on port ${server.address().port}`);
    });
    solo.attach(server); // the /session channel: the old device hears it was signed out
    for (const signal of ["SIGINT", "SIGTERM"]) {
      process.once(signal, () => solo.close().finally(() => server.close()));
    }
  },
  (error) => {
    console.error("solo-session could not start:", error);
    process.exit(1);
  },
);
