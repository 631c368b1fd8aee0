// One HTTP GET without following redirects, as a hand-made request to the server would be.
// Usage: node fetch.mjs URL; prints one JSON line { "status", "location", "body" }.
const response = await fetch(process.argv[2], { redirect: 'manual' });
console.log(JSON.stringify({ status: response.status, location: response.headers.get('location'), body: await response.text() }));
