import { mount } from 'svelte';
import App from './app/App.svelte';
import './app/app.css';
import { registerServiceWorker } from './pwa/register.ts';

mount(App, { target: document.getElementById('app')! });
registerServiceWorker();
