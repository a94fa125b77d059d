// Registers the service worker that makes the app load and build offline after the first visit.
// Skipped in development, where Vite serves modules one by one.
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('service worker not registered:', err));
  });
}
