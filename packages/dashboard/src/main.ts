import './styles.css'
import 'uplot/dist/uPlot.min.css'
import { html } from 'htm/preact'
import { render } from 'preact'
import { ApiClient } from './api/api-client.js'
import { App } from './app.js'
import { interceptLinks } from './router.js'

const root = document.getElementById('app')!
const api = new ApiClient()
interceptLinks(document.body)
root.textContent = ''
render(html`<${App} api=${api} />`, root)
