FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY projections projections
COPY gateway gateway
COPY ui ui
RUN pip install --no-cache-dir .
ENV YINGJI_DATA_DIR=/data
EXPOSE 8000
CMD ["yingji", "serve", "--host", "0.0.0.0", "--port", "8000"]
